// Flex Consumption plan and the Node.js function app. Runtime, scale and the deployment package
// location live in functionAppConfig (Flex rejects FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION
// and WEBSITE_RUN_FROM_PACKAGE). Every connection is identity-based through the one user-assigned identity.
param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
@allowed([
  '20'
  '22'
])
param nodeVersion string
param maximumInstanceCount int
param instanceMemoryMB int
param deploymentContainerUrl string
param hostBlobEndpoint string
param hostQueueEndpoint string
param hostTableEndpoint string
param serviceBusNamespace string
param changesQueueName string
param pollSchedule string
param failedRecordRetentionDays int
@minValue(1)
@maxValue(52)
param initialSyncReadStreams int
param appInsightsConnectionString string
@description('App role every admin API caller needs (empty: function keys only).')
param requiredAppRole string = ''

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// Publishing uses Microsoft Entra ID (az CLI / Core Tools); basic-auth publishing credentials stay off.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

// The complete list of settings; docs/notes/infra.md (README "App settings") explains each one, and
// test/infra/app-settings.test.ts checks it against what the code and the host read. App state lives in the
// host storage (the AzureWebJobsStorage__* URIs); the lake account and Key Vault are named in each profile
// (main.bicep outputs lakeStorageAccountUrl and keyVaultUri for that).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    // Host storage, identity-based. Durable Functions needs the queue and table endpoints too.
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: hostBlobEndpoint
    AzureWebJobsStorage__queueServiceUri: hostQueueEndpoint
    AzureWebJobsStorage__tableServiceUri: hostTableEndpoint
    // Connection "ServiceBus" used by the queue trigger and by the app's own sender.
    ServiceBus__fullyQualifiedNamespace: serviceBusNamespace
    ServiceBus__credential: 'managedidentity'
    ServiceBus__clientId: identityClientId
    CHANGES_QUEUE: changesQueueName
    POLL_SCHEDULE: pollSchedule
    // Lake snapshots / folder rollover; the profiles' intervals decide when one is due.
    LAKE_MAINTENANCE_SCHEDULE: '0 * * * * *'
    // Attributes added while in delta: new columns and their back-fill.
    SCHEMA_REFRESH_SCHEDULE: '0 */5 * * * *'
    // The app's own failed-record sweep; the host storage lifecycle rule deletes after the same number of days.
    FAILURE_RETENTION_SCHEDULE: '0 30 3 * * *'
    FAILED_RECORD_RETENTION_DAYS: string(failedRecordRetentionDays)
    // Partitions of one table read at once in its initial sync (docs/notes/parallel-initial-sync.md).
    INITIAL_SYNC_READ_STREAMS: string(initialSyncReadStreams)
    // Durable task hub name (host.json "hubName": "%TASKHUB_NAME%"); stable across deployments.
    TASKHUB_NAME: 'dvexport'
    // @azure/identity's DefaultAzureCredential / ManagedIdentityCredential pick the identity from this.
    AZURE_CLIENT_ID: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    // App Insights has local auth disabled: ingestion must carry an Entra token for this identity.
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // With App Service Authentication (modules/auth.bicep): the Entra app role every admin API call needs.
    REQUIRE_APP_ROLE: requiredAppRole
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
