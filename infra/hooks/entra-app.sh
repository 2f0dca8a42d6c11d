#!/bin/sh
# azd preprovision hook: creates (or reuses) the gateway's Microsoft Entra app registration, so that `azd provision`
# turns on OAuth on both apps (McpProxy:OAuth:*; see "OAuth with Entra ID" in README.md). Bicep's Microsoft Graph
# extension is a registry module that cannot be restored offline, so the Azure CLI does it.
#
# The app registration: name mcp-gateway-<environment>, single tenant, app ID URI api://<client id>, v2 access tokens,
# a delegated scope mcp.access (users, through an MCP client such as VS Code, pre-authorized here), an app role
# McpGateway.Access (daemons with client credentials) and an app role McpGateway.Admin (the admin API; assign it to
# admins and to CI principals). An existing registration (MCP_OAUTH_CLIENT_ID, or one of that name) is reused as it is,
# after checking it has the scope and roles. MCP_OAUTH_ENTRA=false skips all of this: OAuth stays off.
set -eu

if [ "${MCP_OAUTH_ENTRA:-true}" = "false" ]; then
  echo "MCP_OAUTH_ENTRA=false: no Entra app registration; the gateway takes static tokens only."
  exit 0
fi
if ! command -v az >/dev/null 2>&1; then
  echo "The Azure CLI (az) creates the gateway's Entra app registration: install it and run 'az login', or run 'azd env set MCP_OAUTH_ENTRA false' to deploy without OAuth." >&2
  exit 1
fi

vscode=aebc6443-996d-45c2-90f0-388ff96faa56 # Visual Studio Code's Microsoft sign-in client
name="mcp-gateway-${AZURE_ENV_NAME}"
tenant=$(az account show --query tenantId -o tsv)
app_id="${MCP_OAUTH_CLIENT_ID:-}"
[ -n "$app_id" ] || app_id=$(az ad app list --display-name "$name" --query "[0].appId" -o tsv)

new_id() { cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen | tr 'A-Z' 'a-z'; }
graph_patch() { az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications/$1" --headers "Content-Type=application/json" --body "$2" >/dev/null; }

if [ -z "$app_id" ]; then
  echo "Creating the Entra app registration $name in tenant $tenant"
  app_id=$(az ad app create --display-name "$name" --sign-in-audience AzureADMyOrg --query appId -o tsv)
  object_id=$(az ad app show --id "$app_id" --query id -o tsv)
  scope_id=$(new_id)
  api="\"requestedAccessTokenVersion\": 2, \"oauth2PermissionScopes\": [{\"id\": \"$scope_id\", \"value\": \"mcp.access\", \"type\": \"User\", \"isEnabled\": true,
    \"adminConsentDisplayName\": \"Use the MCP gateway\", \"adminConsentDescription\": \"Call the MCP servers behind the gateway as the signed-in user.\",
    \"userConsentDisplayName\": \"Use the MCP gateway\", \"userConsentDescription\": \"Call the MCP servers behind the gateway as you.\"}]"
  graph_patch "$object_id" "{\"identifierUris\": [\"api://$app_id\"], \"api\": {$api}, \"appRoles\": [
    {\"id\": \"$(new_id)\", \"value\": \"McpGateway.Access\", \"displayName\": \"MCP gateway access\", \"description\": \"Call the MCP servers behind the gateway (apps).\", \"allowedMemberTypes\": [\"Application\"], \"isEnabled\": true},
    {\"id\": \"$(new_id)\", \"value\": \"McpGateway.Admin\", \"displayName\": \"MCP gateway admin\", \"description\": \"Manage the gateway through its admin API.\", \"allowedMemberTypes\": [\"User\", \"Application\"], \"isEnabled\": true}]}"
  # A pre-authorization may name only a scope that already exists: a second request.
  graph_patch "$object_id" "{\"api\": {$api, \"preAuthorizedApplications\": [{\"appId\": \"$vscode\", \"delegatedPermissionIds\": [\"$scope_id\"]}]}}"
  az ad sp create --id "$app_id" >/dev/null
else
  echo "Reusing the Entra app registration $app_id"
  missing=""
  [ "$(az ad app show --id "$app_id" --query "length(api.oauth2PermissionScopes[?value=='mcp.access'])" -o tsv)" = "1" ] || missing="$missing scope mcp.access,"
  for role in McpGateway.Access McpGateway.Admin; do
    [ "$(az ad app show --id "$app_id" --query "length(appRoles[?value=='$role'])" -o tsv)" = "1" ] || missing="$missing app role $role,"
  done
  [ "$(az ad app show --id "$app_id" --query "identifierUris[?@=='api://$app_id'] | length(@)" -o tsv)" = "1" ] || missing="$missing app ID URI api://$app_id,"
  if [ -n "$missing" ]; then
    echo "The app registration $app_id lacks:${missing%,}. Add them (see README.md, OAuth with Entra ID), or unset MCP_OAUTH_CLIENT_ID and rename it to let this hook create a new one." >&2
    exit 1
  fi
  az ad sp show --id "$app_id" >/dev/null 2>&1 || az ad sp create --id "$app_id" >/dev/null
fi

azd env set MCP_OAUTH_CLIENT_ID "$app_id"
azd env set MCP_OAUTH_TENANT_ID "$tenant"
echo "OAuth: issuer https://login.microsoftonline.com/$tenant/v2.0, scope api://$app_id/mcp.access, admin role McpGateway.Admin"
