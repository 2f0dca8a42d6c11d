using McpServerless.Audit;
using McpServerless.Proxy.Telemetry;

namespace McpServerless.Proxy.Downstream;

/// <summary>What every relay needs besides its routing, shared by all sessions.</summary>
internal sealed record RelayServices(ILogger Logger, ProxyInstruments Instruments, AuditLog Audit, StatelessBridge Bridge, ListenStreams Listens);
