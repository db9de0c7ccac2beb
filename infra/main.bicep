// dataverse-export: everything the function app needs in one resource group, least privilege,
// no keys. Deploy with `az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json`.
targetScope = 'resourceGroup'

@description('Region for all resources (must offer the Flex Consumption plan).')
param location string = resourceGroup().location

@description('Short prefix (letters and digits) used in every resource name.')
@minLength(2)
@maxLength(8)
param namePrefix string = 'dvexport'

@description('Makes globally unique names (storage, Key Vault, Service Bus, app). Change it to deploy a second copy into the same resource group.')
@minLength(4)
@maxLength(13)
param nameSuffix string = uniqueString(resourceGroup().id)

@description('Tags added to every resource.')
param tags object = {}

@description('Node.js major version of the Functions runtime.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Upper bound on Flex Consumption instances; it also bounds the load on Dataverse and the destination.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per Flex Consumption instance.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Service Bus queue that carries change batches from the poller to the appliers.')
param changesQueueName string = 'dataverse-changes'

@description('Deliveries of a change batch before Service Bus dead-letters it.')
@minValue(1)
@maxValue(100)
param maxDeliveryCount int = 10

@description('NCRONTAB schedule (with seconds) of the change poller.')
param pollSchedule string = '*/5 * * * * *'

@description('Containers created in the data-lake account for lake profiles.')
param lakeContainerNames array = [
  'dataverse'
]

@description('Days after which failed records (host storage: dvexport-state/failurelog/, unprocessablemessages/) and lake failure logs (<container>/EntitySyncFailure/) are deleted.')
@minValue(1)
param failedRecordRetentionDays int = 30

@description('Requests reading the initial sync of one table at once (app setting INITIAL_SYNC_READ_STREAMS): as many as the x-ms-dop-hint header of Dataverse suggests, at most this; 52 is the Dataverse limit of concurrent requests per user. 1 reads each table page after page.')
@minValue(1)
@maxValue(52)
param initialSyncReadStreams int = 8

@description('Days of Log Analytics retention.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Object id of the admin (user or group) who stores destination connection strings in Key Vault; empty to grant nobody.')
param adminPrincipalId string = ''

@description('Deploy an Azure SQL server and database as a destination.')
param deploySql bool = false

@description('Display name of the Microsoft Entra admin of the SQL server (required when deploySql).')
param sqlAdminLogin string = ''

@description('Object id of the Microsoft Entra admin of the SQL server (required when deploySql).')
param sqlAdminObjectId string = ''

@description('Kind of principal sqlAdminObjectId is.')
@allowed([
  'User'
  'Group'
  'Application'
])
param sqlAdminPrincipalType string = 'Group'

@description('Name of the SQL database.')
param sqlDatabaseName string = 'dataverse'

@description('Queue lag (seconds) above which the lag alert fires.')
@minValue(60)
param queueLagAlertThresholdSeconds int = 900

@description('Email address that receives alerts; empty to create the alert rules without notifications.')
param alertEmail string = ''

var prefix = toLower(namePrefix)
var suffix = toLower(nameSuffix)
var names = {
  identity: 'id-${prefix}-${suffix}'
  hostStorage: take('st${prefix}${suffix}', 24)
  lakeStorage: take('dl${prefix}${suffix}', 24)
  serviceBus: 'sb-${prefix}-${suffix}'
  keyVault: take('kv-${prefix}-${suffix}', 24)
  logAnalytics: 'log-${prefix}-${suffix}'
  appInsights: 'appi-${prefix}-${suffix}'
  plan: 'plan-${prefix}-${suffix}'
  functionApp: 'func-${prefix}-${suffix}'
  sqlServer: 'sql-${prefix}-${suffix}'
  deploymentContainer: 'app-package'
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: tags
    retentionInDays: logRetentionDays
    principalId: identity.outputs.principalId
  }
}

module hostStorage 'modules/host-storage.bicep' = {
  name: 'host-storage'
  params: {
    name: names.hostStorage
    location: location
    tags: tags
    deploymentContainerName: names.deploymentContainer
    principalId: identity.outputs.principalId
    failedRecordRetentionDays: failedRecordRetentionDays
  }
}

module lake 'modules/lake.bicep' = {
  name: 'lake'
  params: {
    name: names.lakeStorage
    location: location
    tags: tags
    containerNames: lakeContainerNames
    failedRecordRetentionDays: failedRecordRetentionDays
    principalId: identity.outputs.principalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    queueName: changesQueueName
    maxDeliveryCount: maxDeliveryCount
    principalId: identity.outputs.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    adminPrincipalId: adminPrincipalId
  }
}

module sql 'modules/sql.bicep' = if (deploySql) {
  name: 'sql'
  params: {
    serverName: names.sqlServer
    databaseName: sqlDatabaseName
    location: location
    tags: tags
    adminLogin: sqlAdminLogin
    adminObjectId: sqlAdminObjectId
    adminPrincipalType: sqlAdminPrincipalType
  }
}

@description('Application (client) id of the app registration of the admin API (README "Who may call the API"). Empty: function keys only, which is not for production.')
param adminApiClientId string = ''

@description('App role of that registration an admin API caller must hold.')
param adminAppRole string = 'Export.Admin'

// Using the other modules' outputs makes the app wait for them, role assignments included, so the
// host starts with access to its storage, queue and telemetry; the lake and the vault pass no setting, so the
// wait for their role assignments is explicit.
module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  dependsOn: [
    lake
    keyVault
  ]
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    deploymentContainerUrl: hostStorage.outputs.deploymentContainerUrl
    hostBlobEndpoint: hostStorage.outputs.blobEndpoint
    hostQueueEndpoint: hostStorage.outputs.queueEndpoint
    hostTableEndpoint: hostStorage.outputs.tableEndpoint
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    changesQueueName: serviceBus.outputs.queueName
    pollSchedule: pollSchedule
    failedRecordRetentionDays: failedRecordRetentionDays
    initialSyncReadStreams: initialSyncReadStreams
    appInsightsConnectionString: monitoring.outputs.connectionString
    requiredAppRole: empty(adminApiClientId) ? '' : adminAppRole
  }
}

module auth 'modules/auth.bicep' = if (!empty(adminApiClientId)) {
  name: 'auth'
  params: {
    appName: functionApp.outputs.name
    apiClientId: adminApiClientId
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    location: location
    tags: tags
    namePrefix: prefix
    appInsightsId: monitoring.outputs.appInsightsId
    serviceBusNamespaceId: serviceBus.outputs.id
    changesQueueName: serviceBus.outputs.queueName
    queueLagThresholdSeconds: queueLagAlertThresholdSeconds
    alertEmail: alertEmail
  }
}

output functionAppName string = functionApp.outputs.name
output apiBaseUrl string = 'https://${functionApp.outputs.defaultHostName}/api'
output changesQueueName string = serviceBus.outputs.queueName
output keyVaultUri string = keyVault.outputs.uri
output keyVaultName string = keyVault.outputs.name
output identityClientId string = identity.outputs.clientId
output identityName string = names.identity
output lakeStorageAccountUrl string = lake.outputs.blobEndpoint
// ARM evaluates only the branch of if() the condition selects, so `sql!` is never read when deploySql is false
// (learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-logical#if); Bicep cannot
// narrow the conditional module's type from the condition itself, hence the `!`.
output sqlServerFqdn string = deploySql ? sql!.outputs.serverFqdn : ''
output sqlDatabaseName string = deploySql ? sql!.outputs.databaseName : ''
