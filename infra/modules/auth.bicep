// The admin API behind App Service Authentication with Microsoft Entra ID: a caller needs a token for the
// API's app registration, and the app (REQUIRE_APP_ROLE, functions/app-role.ts) then requires the app role
// in the client principal the platform passes on. Function keys stay, for local use and as a second factor.
// authsettingsV2: https://learn.microsoft.com/azure/templates/microsoft.web/sites/config-authsettingsv2
// Entra provider: https://learn.microsoft.com/azure/app-service/configure-authentication-provider-aad

@description('Name of the existing function app.')
param appName string

@description('Application (client) id of the app registration that represents the admin API.')
param apiClientId string

@description('Tenant of that app registration.')
param tenantId string = subscription().tenantId

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      // An API answers 401; there is no browser to redirect to a sign-in page.
      unauthenticatedClientAction: 'Return401'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${apiClientId}'
            apiClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}
