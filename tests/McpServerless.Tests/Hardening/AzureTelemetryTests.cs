using System.IO.Compression;
using System.Net;
using Azure.Identity;
using McpServerless.Proxy.Telemetry;
using McpServerless.Storage;
using McpServerless.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace McpServerless.Tests.Hardening;

/// <summary>
/// Azure Monitor export and the credential choice. Azure itself cannot be reached here, so the exporter sends to an
/// ingestion endpoint on loopback that keeps what it receives (the connection string names it, as it names Azure's).
/// </summary>
public sealed class AzureTelemetryTests
{
    [Fact]
    public async Task With_an_Application_Insights_connection_string_requests_are_exported_to_its_ingestion_endpoint()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string>
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = $"InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint={ingestion.Address}",
        });

        using (var health = await gateway.Http.GetAsync("healthz/live"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        var telemetry = await Eventually.GetAsync(() => Task.FromResult(ingestion.Received), t => t.Contains("/healthz/live", StringComparison.Ordinal),
            "the request telemetry to reach the ingestion endpoint", TimeSpan.FromSeconds(60));
        Assert.Contains("RequestData", telemetry);
        Assert.Contains("mcp-serverless", telemetry);
    }

    [Fact]
    public void A_named_identity_means_Azure_and_gets_a_managed_identity_credential_with_no_chain_to_fall_through()
    {
        Assert.IsType<ManagedIdentityCredential>(AzureCredentials.Create("7f0b8b3e-5c1a-4c41-9a9e-1d6f1c2a3b4c"));
        Assert.IsType<DefaultAzureCredential>(AzureCredentials.Create(null));
        Assert.IsType<DefaultAzureCredential>(AzureCredentials.Create(" "));
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("", "client", null)]
    [InlineData("Authorization=AAD;ClientId=abc", null, typeof(ManagedIdentityCredential))]
    [InlineData("ClientId=abc; Authorization=aad", null, typeof(ManagedIdentityCredential))]
    [InlineData("Authorization=AAD", "from-AZURE_CLIENT_ID", typeof(ManagedIdentityCredential))]
    [InlineData("Authorization=AAD", null, typeof(DefaultAzureCredential))]
    public void Entra_authentication_is_used_only_when_the_authentication_string_asks_for_it(string? authentication, string? clientId, Type? expected) =>
        Assert.Equal(expected, GatewayTelemetry.AzureMonitorCredential(authentication, clientId)?.GetType());

    /// <summary>Answers the exporter's <c>POST /v2.1/track</c> as the service does and keeps the (gzip) bodies as text.</summary>
    private sealed class FakeIngestion : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly List<string> _bodies = [];

        private FakeIngestion(WebApplication app) => _app = app;

        public string Address { get; private set; } = "";

        public string Received
        {
            get
            {
                lock (_bodies) return string.Join('\n', _bodies);
            }
        }

        public static async Task<FakeIngestion> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var ingestion = new FakeIngestion(app);
            app.MapPost("/v2.1/track", async (HttpRequest request) =>
            {
                var body = request.Headers.ContentEncoding == "gzip" ? new GZipStream(request.Body, CompressionMode.Decompress) : request.Body;
                using var reader = new StreamReader(body);
                var text = await reader.ReadToEndAsync();
                lock (ingestion._bodies) ingestion._bodies.Add(text);
                return Results.Json(new { itemsReceived = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, itemsAccepted = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, errors = Array.Empty<object>() });
            });
            await app.StartAsync();
            ingestion.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/";
            return ingestion;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
