using System.Text.Json;
using System.Text.Json.Serialization;
using McpServerless.Admin;
using McpServerless.Audit;
using McpServerless.ChangeFeed;
using McpServerless.Metrics;
using McpServerless.Model;
using McpServerless.Storage;
using McpServerless.WebUi;

namespace McpServerless.Serialization;

/// <summary>
/// Source-generated JSON for every type the gateway reads or writes: camelCase, nulls omitted,
/// no reflection at run time.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(McpDefinition))]
[JsonSerializable(typeof(VirtualServerDefinition))]
[JsonSerializable(typeof(McpEntry))]
[JsonSerializable(typeof(McpList))]
[JsonSerializable(typeof(VirtualServerEntry))]
[JsonSerializable(typeof(VirtualServerList))]
[JsonSerializable(typeof(ToolList))]
[JsonSerializable(typeof(HealthBody))]
[JsonSerializable(typeof(MetricsSnapshot))]
[JsonSerializable(typeof(RegistryChange))]
[JsonSerializable(typeof(McpInstanceReport))]
[JsonSerializable(typeof(List<ToolInfo>))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(AuditPage))]
[JsonSerializable(typeof(WebUiSettings))]
public sealed partial class GatewayJson : JsonSerializerContext;
