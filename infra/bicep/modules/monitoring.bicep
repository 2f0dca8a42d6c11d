// Log Analytics + workspace-based Application Insights. Local (key) ingestion is off: the apps send
// telemetry with their managed identity, which needs Monitoring Metrics Publisher.
param location string
param tags object
@description('uniqueString() of subscription, environment and region: makes names globally unique.')
@minLength(13)
@maxLength(13)
param token string
param publisherPrincipalIds array

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${token}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource publishers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in publisherPrincipalIds: {
  name: guid(insights.id, principalId, monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

// The gateway's dashboard in Azure Monitor, on the OpenTelemetry MCP metrics the proxy exports (see the README's Observability).
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(insights.id, 'mcp-gateway-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'MCP gateway'
    category: 'workbook'
    sourceId: insights.id
    serializedData: loadTextContent('../workbooks/mcp-gateway.workbook.json')
  }
}

// Names only: consumers read the connection string from the resource, so it never appears in deployment outputs.
output logAnalyticsName string = workspace.name
output applicationInsightsName string = insights.name
