using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace McpServerless.Tests.Deployment;

/// <summary>
/// What `azd up` would deploy, checked offline: infra/bicep/main.bicep is built to ARM JSON with the Bicep CLI (from
/// NuGet) and the template is read for the properties that decide whether a first `azd up`, and one after `azd down`,
/// works and stays least-privileged. Azure itself cannot be reached here; what the template cannot show (the running
/// deployment) is in the README.
/// </summary>
public sealed partial class BicepTemplateTests : IClassFixture<BicepTemplateTests.CompiledTemplate>
{
    // Built-in roles the deployment may assign, each for a reason the README gives.
    private static readonly Dictionary<string, string> AllowedBuiltInRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor: registry entries and reports",
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner: the Functions host's storage and package",
        ["69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"] = "Azure Service Bus Data Sender: change notices",
        ["4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"] = "Azure Service Bus Data Receiver: change notices",
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "AcrPull: the proxy image",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher: telemetry with Entra ID",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User: the tokens",
    };

    // Broader roles that would each do, and must not be used.
    private static readonly string[] BroadRoles =
    [
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", // Owner
        "b24988ac-6180-42a0-ab88-20f7382dd24c", // Contributor
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", // User Access Administrator
        "090c5cfd-751d-490a-894a-3ce6f1109419", // Azure Service Bus Data Owner
        "00482a5a-887f-4fb3-b363-3b7fe8e74483", // Key Vault Administrator
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", // Key Vault Secrets Officer
    ];

    private static readonly string[] SecureParameters = ["adminToken", "adminTokenNext", "agentToken"];

    private readonly CompiledTemplate _compiled;

    public BicepTemplateTests(CompiledTemplate compiled) => _compiled = compiled;

    private JsonObject Main => _compiled.Main;

    [Fact]
    public void A_first_azd_up_needs_no_variables_the_placeholder_image_has_a_public_default()
    {
        var placeholder = Main["parameters"]!["proxyPlaceholderImage"]!["defaultValue"]!.GetValue<string>();
        Assert.StartsWith("mcr.microsoft.com/", placeholder);

        // Every parameter without a default is one azd fills: from its own variables or by generating it.
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(CompiledTemplate.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();
        foreach (var (name, definition) in Main["parameters"]!.AsObject())
        {
            if (definition!["defaultValue"] is not null) continue;
            var generated = definition["metadata"]?["azd"]?["type"]?.GetValue<string>() == "generate";
            var mapped = parameters[name]?["value"]?.GetValue<string>() is { } value && AzdEnvironmentValues().IsMatch(value);
            Assert.True(generated || mapped, $"parameter {name} has no default, is not generated and is not mapped to an azd variable");
        }
        Assert.Equal("generate", Main["parameters"]!["adminToken"]!["metadata"]!["azd"]!["type"]!.GetValue<string>());
        Assert.Equal("generate", Main["parameters"]!["agentToken"]!["metadata"]!["azd"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void After_azd_down_the_image_comes_from_the_app_that_exists_never_from_a_remembered_image_name()
    {
        var parameters = File.ReadAllText(Path.Combine(CompiledTemplate.InfraDirectory, "main.parameters.json"));
        Assert.Contains("${SERVICE_PROXY_RESOURCE_EXISTS=false}", parameters);
        Assert.DoesNotContain("SERVICE_PROXY_IMAGE_NAME", parameters);

        // The fetch module reads the running app's containers, only when it exists.
        var containers = Module("proxy-image")["outputs"]!["containers"]!["value"]!.GetValue<string>();
        Assert.StartsWith("[if(parameters('exists'), reference(resourceId('Microsoft.App/containerApps', parameters('name'))", containers);
        // The app's image is what the fetch module found, or else the placeholder.
        var image = Deployment("proxy")["properties"]!["parameters"]!["image"]!["value"]!.GetValue<string>();
        Assert.Contains("'proxy-image'", image);
        Assert.Contains("parameters('proxyPlaceholderImage')", image);
    }

    [Fact]
    public void Liveness_asks_only_whether_the_process_serves_never_storage()
    {
        var proxy = Module("proxy");
        var app = Assert.Single(proxy["resources"]!.AsArray(), r => r!["type"]!.GetValue<string>() == "Microsoft.App/containerApps")!;
        Assert.Equal("[if(parameters('placeholder'), variables('placeholderProbes'), variables('appProbes'))]",
            app["properties"]!["template"]!["containers"]![0]!["probes"]!.GetValue<string>());

        var probes = Probes(proxy["variables"]!["appProbes"]!);
        Assert.Equal("/healthz/live", probes["Liveness"]["httpGet"]!["path"]!.GetValue<string>());
        // A failed startup probe restarts the container too.
        Assert.Equal("/healthz/live", probes["Startup"]["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/healthz/ready", probes["Readiness"]["httpGet"]!["path"]!.GetValue<string>());

        // Until the first deploy the probes must suit the placeholder and, after `azd deploy` changes only the image, the proxy.
        var placeholder = Probes(proxy["variables"]!["placeholderProbes"]!);
        Assert.Equal(8080, placeholder["Liveness"]["tcpSocket"]!["port"]!.GetValue<int>());
        Assert.Equal(8080, placeholder["Startup"]["tcpSocket"]!["port"]!.GetValue<int>());
        Assert.Equal("/healthz", placeholder["Readiness"]["httpGet"]!["path"]!.GetValue<string>());
    }

    [Fact]
    public void Every_role_is_one_the_apps_need_scoped_to_one_resource()
    {
        var json = Main.ToJsonString();
        foreach (var broad in BroadRoles)
            Assert.DoesNotContain(broad, json, StringComparison.OrdinalIgnoreCase);

        var assignments = Resources(Main).Where(r => r.Resource["type"]!.GetValue<string>() == "Microsoft.Authorization/roleAssignments").ToList();
        Assert.NotEmpty(assignments);
        foreach (var (template, assignment) in assignments)
        {
            var name = assignment["name"]!.ToString();
            // Resource-scoped: never the whole resource group or subscription.
            Assert.False(assignment["scope"] is null, $"role assignment {name} has no resource scope");
            var role = assignment["properties"]!["roleDefinitionId"]!.GetValue<string>();
            if (role.Contains("'Microsoft.Authorization/roleDefinitions', guid(", StringComparison.Ordinal)) continue; // the custom role, checked below
            var expressions = role + " " + assignment["copy"]?["input"];
            var guids = Guids().Matches(expressions).Select(m => m.Value)
                .Concat(VariableReferences().Matches(expressions).SelectMany(m => Guids().Matches(template["variables"]![m.Groups[1].Value]!.ToString()).Select(g => g.Value)))
                .ToList();
            Assert.NotEmpty(guids);
            Assert.All(guids, guid => Assert.True(AllowedBuiltInRoles.ContainsKey(guid), $"role {guid} in assignment {name} is not one the deployment needs"));
        }

        var custom = Assert.Single(Resources(Main), r => r.Resource["type"]!.GetValue<string>() == "Microsoft.Authorization/roleDefinitions").Resource;
        var permissions = Assert.Single(custom["properties"]!["permissions"]!.AsArray())!;
        Assert.Equal(
            ["Microsoft.ServiceBus/namespaces/topics/read", "Microsoft.ServiceBus/namespaces/topics/subscriptions/read", "Microsoft.ServiceBus/namespaces/topics/subscriptions/write"],
            permissions["actions"]!.AsArray().Select(a => a!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Empty(permissions["dataActions"]!.AsArray());
    }

    [Fact]
    public void Tokens_go_to_Key_Vault_and_nowhere_else_and_the_apps_hold_only_references()
    {
        // A secure parameter may be handed to a module, or become a Key Vault secret; any other use would put it in
        // plain text somewhere (an app setting, an environment variable, an output).
        foreach (var (path, text) in Strings(Main, "$"))
        {
            foreach (var parameter in SecureParameters)
            {
                var reference = $"parameters('{parameter}')";
                var uses = text.Replace($"empty({reference})", "", StringComparison.Ordinal);
                if (!uses.Contains(reference, StringComparison.Ordinal)) continue;
                Assert.True(
                    path.EndsWith($".properties.parameters.{parameter}.value", StringComparison.Ordinal) || IsKeyVaultSecretValue(path),
                    $"{parameter} is used at {path}: {text}");
            }
        }
        Assert.DoesNotContain(Main["outputs"]!.AsObject(), o => o.Value!["type"]!.GetValue<string>().StartsWith("secure", StringComparison.OrdinalIgnoreCase));

        var settings = Assert.Single(Module("admin")["resources"]!.AsArray(), r => r!["type"]!.GetValue<string>() == "Microsoft.Web/sites/config")!["properties"]!.ToString();
        Assert.Contains("McpProxy__AdminTokens__{0}", settings);
        Assert.Contains("@Microsoft.KeyVault(SecretUri={0})", settings);
        var secrets = Module("proxy")["variables"]!["secrets"]!.ToString();
        Assert.Contains("'keyVaultUrl'", secrets);
        Assert.DoesNotContain("'value'", secrets);
    }

    [Fact]
    public void An_Azure_Monitor_workbook_on_the_Application_Insights_component_shows_the_MCP_metrics()
    {
        var (template, workbook) = Assert.Single(Resources(Main), r => r.Resource["type"]!.GetValue<string>() == "Microsoft.Insights/workbooks");
        Assert.Contains("Microsoft.Insights/components", workbook["properties"]!["sourceId"]!.ToString(), StringComparison.Ordinal);
        // loadTextContent() puts the file in a template variable.
        var data = workbook["properties"]!["serializedData"]!.GetValue<string>();
        if (VariableReferences().Match(data) is { Success: true } variable) data = template["variables"]![variable.Groups[1].Value]!.GetValue<string>();
        var content = JsonNode.Parse(data)!;
        Assert.Equal("Notebook/1.0", content["version"]!.GetValue<string>());
        var queries = string.Join('\n', content["items"]!.AsArray().Select(i => i!["content"]?["query"]?.GetValue<string>()).OfType<string>());
        Assert.Contains("mcp.client.operation.duration", queries, StringComparison.Ordinal);
        Assert.Contains("mcp.server.operation.duration", queries, StringComparison.Ordinal);
        Assert.Contains("mcp.server.session.duration", queries, StringComparison.Ordinal);
    }

    [Fact]
    public void Regions_are_those_with_Flex_Consumption()
    {
        var allowed = Main["parameters"]!["location"]!["allowedValues"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
        Assert.Contains("eastus2", allowed);
        Assert.Contains("westeurope", allowed);
        Assert.DoesNotContain(allowed, region => region.EndsWith("euap", StringComparison.Ordinal));
    }

    [Fact]
    public void Service_Bus_uses_a_generally_available_api_version()
    {
        var versions = Resources(Main).Select(r => r.Resource)
            .Where(r => r["type"]!.GetValue<string>().StartsWith("Microsoft.ServiceBus/", StringComparison.Ordinal))
            .Select(r => r["apiVersion"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(versions);
        Assert.All(versions, version => Assert.DoesNotContain("preview", version, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OAuth_with_entra_id_is_set_on_both_apps_once_the_hook_has_an_app_registration()
    {
        // The preprovision hook creates the app registration and hands its ids over as azd variables; unset, OAuth is off.
        var parameters = File.ReadAllText(Path.Combine(CompiledTemplate.InfraDirectory, "main.parameters.json"));
        Assert.Contains("${MCP_OAUTH_CLIENT_ID=}", parameters);
        Assert.Contains("${MCP_OAUTH_TENANT_ID=}", parameters);

        var settings = Main["variables"]!["oauthSettings"]!.GetValue<string>();
        Assert.StartsWith("[if(empty(parameters('oauthClientId')), createObject(), createObject(", settings);
        Assert.Contains("'McpProxy__OAuth__Authority', format('{0}{1}/v2.0', environment().authentication.loginEndpoint", settings);
        Assert.Contains("'McpProxy__OAuth__Audiences__0', parameters('oauthClientId')", settings);
        Assert.Contains("'McpProxy__OAuth__RequiredScopes__0', format('api://{0}/mcp.access', parameters('oauthClientId'))", settings);
        Assert.Contains("'McpProxy__OAuth__AdminRoles__0', 'McpGateway.Admin'", settings);
        foreach (var app in new[] { "admin", "proxy" })
            Assert.EndsWith("variables('oauthSettings'))]", Deployment(app)["properties"]!["parameters"]!["gatewaySettings"]!["value"]!.GetValue<string>());

        // The hook azd runs before provisioning, for both shells, and the POSIX one parses.
        var root = Directory.GetParent(CompiledTemplate.InfraDirectory)!.Parent!.FullName;
        var azureYaml = File.ReadAllText(Path.Combine(root, "azure.yaml"));
        foreach (var script in new[] { "infra/hooks/entra-app.sh", "infra/hooks/entra-app.ps1" })
        {
            Assert.Contains($"run: ./{script}", azureYaml);
            Assert.True(File.Exists(Path.Combine(root, script)), script);
        }
        await using var parse = Infrastructure.ExternalProcess.Start("sh", ["-n", Path.Combine(root, "infra/hooks/entra-app.sh")]);
        await parse.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    private static bool IsKeyVaultSecretValue(string path) =>
        KeyVaultSecretValue().IsMatch(path);

    private JsonObject Deployment(string name) =>
        Assert.Single(Main["resources"]!.AsArray(), r => r!["type"]!.GetValue<string>() == "Microsoft.Resources/deployments" && r["name"]!.GetValue<string>() == name)!.AsObject();

    private JsonObject Module(string name) => Deployment(name)["properties"]!["template"]!.AsObject();

    private static Dictionary<string, JsonNode> Probes(JsonNode probes) =>
        probes.AsArray().ToDictionary(p => p!["type"]!.GetValue<string>(), p => p!);

    /// <summary>Every resource of a template and of its nested templates, with the template that declares it.</summary>
    private static IEnumerable<(JsonObject Template, JsonObject Resource)> Resources(JsonObject template)
    {
        foreach (var resource in template["resources"]!.AsArray().Select(r => r!.AsObject()))
        {
            yield return (template, resource);
            if (resource["type"]!.GetValue<string>() == "Microsoft.Resources/deployments" && resource["properties"]!["template"] is JsonObject nested)
                foreach (var inner in Resources(nested)) yield return inner;
        }
    }

    /// <summary>Every string in the document with its path; nested templates' resources are marked with their type.</summary>
    private static IEnumerable<(string Path, string Text)> Strings(JsonNode? node, string path) => node switch
    {
        JsonObject obj => obj.SelectMany(p => Strings(p.Value, p.Key == "resources" ? path + ".resources" : $"{path}.{p.Key}")),
        JsonArray array => array.SelectMany((item, i) => Strings(item, item is JsonObject { } o && o["type"] is JsonValue type ? $"{path}[{type}]" : $"{path}[{i}]")),
        JsonValue value when value.TryGetValue<string>(out var text) => [(path, text)],
        _ => [],
    };

    [GeneratedRegex("""^\$\{[A-Z_]+(=[^}]*)?\}$""")]
    private static partial Regex AzdEnvironmentValues();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex Guids();

    [GeneratedRegex(@"variables\('([^']+)'\)")]
    private static partial Regex VariableReferences();

    [GeneratedRegex(@"\[Microsoft\.KeyVault/vaults/secrets\]\.properties\.value$")]
    private static partial Regex KeyVaultSecretValue();

    /// <summary>main.bicep built once for the class, with the Bicep CLI the test project downloads.</summary>
    public sealed class CompiledTemplate
    {
        public static string InfraDirectory { get; } = FindInfra();

        public JsonObject Main { get; } = Build();

        private static JsonObject Build()
        {
            var cli = typeof(CompiledTemplate).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCli").Value!;
            if (!File.Exists(cli)) throw new FileNotFoundException($"The Bicep CLI is missing at {cli}; restore the test project.");
            // NuGet may extract it without its execute bit (the package is linux-x64 only).
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(cli, File.GetUnixFileMode(cli) | UnixFileMode.UserExecute);
            using var process = Process.Start(new ProcessStartInfo(cli, ["build", Path.Combine(InfraDirectory, "main.bicep"), "--stdout"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var stderr = process.StandardError.ReadToEndAsync();
            var json = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"bicep build failed: {stderr.Result}");
            return JsonNode.Parse(json)!.AsObject();
        }

        private static string FindInfra()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "infra", "bicep");
                if (File.Exists(Path.Combine(candidate, "main.bicep"))) return candidate;
            }
            throw new DirectoryNotFoundException("infra/bicep is not above the test binaries.");
        }
    }
}
