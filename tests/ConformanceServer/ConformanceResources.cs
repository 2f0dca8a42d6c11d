using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.ConformanceServer;

[McpServerResourceType]
public sealed class ConformanceResources
{
    [McpServerResource(UriTemplate = "test://static-text", Name = "static-text", MimeType = "text/plain"), Description("A static text resource.")]
    public static TextResourceContents StaticText() =>
        new() { Uri = "test://static-text", MimeType = "text/plain", Text = "This is the content of the static text resource." };

    [McpServerResource(UriTemplate = "test://static-binary", Name = "static-binary", MimeType = "image/png"), Description("A static binary resource (a PNG).")]
    public static BlobResourceContents StaticBinary() => BlobResourceContents.FromBytes(ConformanceTools.Png, "test://static-binary", "image/png");

    [McpServerResource(UriTemplate = "test://watched-resource", Name = "watched-resource", MimeType = "text/plain"), Description("A resource clients may subscribe to.")]
    public static TextResourceContents Watched() =>
        new() { Uri = "test://watched-resource", MimeType = "text/plain", Text = "Watched resource content." };

    [McpServerResource(UriTemplate = "test://template/{id}/data", Name = "template-data", MimeType = "application/json"), Description("A resource template; {id} is substituted.")]
    public static TextResourceContents Template(string id) =>
        new() { Uri = $"test://template/{id}/data", MimeType = "application/json", Text = $$"""{"id":"{{id}}","templateTest":true,"data":"Data for ID: {{id}}"}""" };
}
