using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace McpServerless.WebUi;

public static class WebUiEndpoints
{
    public const string RoutePrefix = "/ui";

    /// <summary>Serves the operator console at <c>/ui/</c> (GET and HEAD), beside the admin API at <c>/admin/</c>.</summary>
    public static RouteHandlerBuilder MapWebUi(this IEndpointRouteBuilder endpoints, WebUiSettings settings) =>
        endpoints.MapMethods(RoutePrefix + "/{**path}", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext context, string? path) => WebUiAssets.Serve(context, path, settings));
}
