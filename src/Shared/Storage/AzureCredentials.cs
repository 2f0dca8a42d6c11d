using Azure.Core;
using Azure.Identity;

namespace McpServerless.Storage;

/// <summary>The credential of every Azure backend reached without a connection string: the managed identity in Azure, a developer login elsewhere.</summary>
internal static class AzureCredentials
{
    /// <param name="managedIdentityClientId">The client id of a user-assigned identity, or empty for the system-assigned one.</param>
    public static TokenCredential Create(string? managedIdentityClientId) =>
        new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(managedIdentityClientId) ? null : managedIdentityClientId,
        });
}
