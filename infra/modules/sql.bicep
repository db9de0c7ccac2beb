// Optional Azure SQL destination with Microsoft Entra-only authentication (no SQL logins exist).
// The app identity still needs a database user: Bicep cannot run T-SQL, so the README's
// `CREATE USER [<identity>] FROM EXTERNAL PROVIDER` step does that after deployment.
param serverName string
param databaseName string
param location string
param tags object
param adminLogin string
param adminObjectId string
@allowed([
  'User'
  'Group'
  'Application'
])
param adminPrincipalType string

resource server 'Microsoft.Sql/servers@2023-08-01' = {
  name: serverName
  location: location
  tags: tags
  properties: {
    minimalTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    administrators: {
      administratorType: 'ActiveDirectory'
      azureADOnlyAuthentication: true
      login: adminLogin
      sid: adminObjectId
      principalType: adminPrincipalType
      tenantId: subscription().tenantId
    }
  }
}

// Flex Consumption apps without VNet integration have no fixed outbound addresses; this special
// 0.0.0.0 rule admits Azure-hosted callers only (authentication is still Entra-only).
resource allowAzureServices 'Microsoft.Sql/servers/firewallRules@2023-08-01' = {
  parent: server
  name: 'AllowAllWindowsAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

// Serverless General Purpose: pauses when idle, scales up for initial syncs.
resource database 'Microsoft.Sql/servers/databases@2023-08-01' = {
  parent: server
  name: databaseName
  location: location
  tags: tags
  sku: {
    name: 'GP_S_Gen5'
    tier: 'GeneralPurpose'
    family: 'Gen5'
    capacity: 2
  }
  properties: {
    autoPauseDelay: 60
    minCapacity: json('0.5')
    collation: 'SQL_Latin1_General_CP1_CI_AS'
  }
}

output serverFqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
