// Service Bus namespace and the change-batch queue. Local (SAS) auth is disabled; the app identity
// may only send and receive. Poison batches land in the queue's dead-letter sub-queue.
param name string
param location string
param tags object
param queueName string
param maxDeliveryCount int
param principalId string

var roleIds = {
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  // Standard is the cheapest tier with duplicate detection.
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource changesQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    // Each failed attempt (throw → abandon) counts; after this many the message is dead-lettered.
    maxDeliveryCount: maxDeliveryCount
    // The Functions host renews the lock while a batch is applied (host.json maxAutoLockRenewalDuration);
    // a short lock makes a crashed worker's batch visible again quickly.
    lockDuration: 'PT1M'
    // A retried poll may re-send a batch it already sent before crashing; the batch id is the messageId.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 5120
  }
}

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in items(roleIds): {
    name: guid(namespace.id, principalId, roleId.value)
    scope: namespace
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId.value)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output id string = namespace.id
output name string = namespace.name
// serviceBusEndpoint is an https URL with port 443 and a trailing slash; bindings and the SDK want the host only.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '/')[2], ':')[0]
output queueName string = changesQueue.name
