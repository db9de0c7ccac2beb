// Alert rules and the operations workbook. The dvexport.* names are the OpenTelemetry metrics the app
// emits (shared/telemetry); @azure/monitor-opentelemetry stores them in Application Insights'
// customMetrics table with their attributes (profile, table, operation) in customDimensions.
param location string
param tags object
param namePrefix string
param appInsightsId string
param serviceBusNamespaceId string
param changesQueueName string
param queueLagThresholdSeconds int
param alertEmail string

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(namePrefix, 12)
    enabled: true
    emailReceivers: [
      {
        name: 'admin'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actionGroupIds = empty(alertEmail) ? [] : [actionGroup.id]
var perTableDimensions = [
  {
    name: 'profile'
    operator: 'Include'
    values: [
      '*'
    ]
  }
  {
    name: 'table'
    operator: 'Include'
    values: [
      '*'
    ]
  }
]

resource queueLagAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-queue-lag'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Dataverse export: change batches wait too long in the queue'
    description: 'dvexport.queue.lag (time from enqueue to apply) is above ${queueLagThresholdSeconds} s for a profile/table: the applier is failing, throttled or under-scaled.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: '''
customMetrics
| where name == 'dvexport.queue.lag'
| project timestamp, lagMs = valueMax, profile = tostring(customDimensions.profile), table = tostring(customDimensions.table)
'''
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'lagMs'
          operator: 'GreaterThan'
          threshold: queueLagThresholdSeconds * 1000
          dimensions: perTableDimensions
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroupIds
    }
  }
}

resource failedRecordsAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-failed-records'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Dataverse export: records failed to apply'
    description: 'dvexport.records.failed > 0: rows were moved to the failed-records store. Check the profile status and resync the table after fixing the cause.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: '''
customMetrics
| where name == 'dvexport.records.failed'
| project timestamp, failed = valueSum, profile = tostring(customDimensions.profile), table = tostring(customDimensions.table)
'''
          timeAggregation: 'Total'
          metricMeasureColumn: 'failed'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: perTableDimensions
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroupIds
    }
  }
}

// Dead-lettering is alerted on from Service Bus' own metric, which counts every dead-lettered
// message whether or not the app was running to report it.
resource deadLetterAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${namePrefix}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Messages in the dead-letter queue of ${changesQueueName}: change batches failed every delivery attempt or expired. Inspect and replay them.'
    severity: 1
    enabled: true
    scopes: [
      serviceBusNamespaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeadletteredMessages'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                changesQueueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    autoMitigate: true
    actions: [for actionGroupId in actionGroupIds: {
      actionGroupId: actionGroupId
    }]
  }
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // Workbook resource names must be GUIDs.
  name: guid(resourceGroup().id, appInsightsId, 'dvexport-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Dataverse export operations'
    category: 'workbook'
    sourceId: appInsightsId
    version: 'Notebook/1.0'
    serializedData: loadTextContent('../monitoring/workbook.json')
  }
}

output workbookId string = workbook.id
