// The containers of the proxy app as they run now, when it exists (azd's fetch-container-image pattern, as a local
// module so the template builds offline): a provision then keeps the image the last `azd deploy` set.
@description('Whether the app exists; azd passes SERVICE_PROXY_RESOURCE_EXISTS.')
param exists bool

param name string

resource existingApp 'Microsoft.App/containerApps@2024-03-01' existing = if (exists) {
  name: name
}

output containers array = exists ? existingApp!.properties.template.containers : []
