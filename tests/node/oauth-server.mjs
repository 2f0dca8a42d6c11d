// A real OAuth 2.1 / OpenID Connect authorization server for the tests: npm's oidc-provider (OpenID Certified),
// configured here and nowhere else. It issues RFC 9068 JWT access tokens for any RFC 8707 resource it is asked for,
// by the client credentials grant and by the authorization code grant with PKCE (login and consent are approved at
// once: the interaction below plays the user who says yes).
//
// Usage: node oauth-server.mjs <config.json>
//   { "port": 5000, "issuer": "http://127.0.0.1:5000" (default), "scopes": ["mcp.access", ...],
//     "clients": [{ "client_id", "client_secret"?, "grant_types", "redirect_uris"?, "scope"?, "accessTokenTTL"?, "roles"? }],
//     "discovery": "oidc" (default) | "rfc8414" }
// "rfc8414" publishes the metadata at /.well-known/oauth-authorization-server only, as a plain OAuth server does.
// A client's "roles" go into its access tokens as a "roles" claim, as Entra ID writes an app's application permissions.
//
// Test hooks, on the same port:
//   POST /_test/rotate      signs with a new key from now on; the old one stays published (a key rollover), or with
//                           ?withdraw=true is no longer published (a compromised key taken back)
//   GET  /_test/stats       {"tokens": {"<client_id>": n}}: tokens issued per client
//   GET  /_test/msi/token   a managed-identity endpoint (the App Service protocol Azure.Identity speaks): answers
//                           ?resource=R with a client-credentials token for R, issued by this server to the client
//                           named in the X-IDENTITY-HEADER header
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const issuer = config.issuer ?? `http://127.0.0.1:${config.port}`;
const scopes = config.scopes ?? ["mcp.access"];
const ttlByClient = Object.fromEntries(config.clients.map((c) => [c.client_id, c.accessTokenTTL ?? 300]));
const rolesByClient = Object.fromEntries(config.clients.map((c) => [c.client_id, c.roles]));
const clients = config.clients.map(({ accessTokenTTL, roles, ...client }) => ({
  token_endpoint_auth_method: client.client_secret ? "client_secret_basic" : "none",
  redirect_uris: [],
  response_types: client.grant_types.includes("authorization_code") ? ["code"] : [],
  ...client,
}));
const issued = {};
const keys = [];

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: crypto.randomUUID(), alg: "RS256", use: "sig" };
}

function createProvider() {
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys }, // the first key signs; the others stay published
    scopes,
    claims: { openid: ["sub"] },
    pkce: { required: () => true },
    clientBasedCORS: () => true,
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    extraTokenClaims: (_ctx, token) => (rolesByClient[token.clientId] ? { roles: rolesByClient[token.clientId] } : undefined),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => ({
          scope: scopes.join(" "),
          audience: resource,
          accessTokenTTL: ttlByClient[client.clientId],
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
  });
  provider.on("grant.success", (ctx) => {
    const id = ctx.oidc.client.clientId;
    issued[id] = (issued[id] ?? 0) + 1;
  });
  return provider;
}

keys.unshift(newKey());
let provider = createProvider();

// Login and consent, approved at once for the account "alice".
async function interact(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === "login") {
    await provider.interactionFinished(req, res, { login: { accountId: "alice" } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  for (const [resource, granted] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, granted.join(" "));
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

async function managedIdentityToken(req, res, url) {
  const clientId = req.headers["x-identity-header"];
  const client = clients.find((c) => c.client_id === clientId);
  if (!client) return json(res, 400, { error: "unknown identity" });
  const resource = url.searchParams.get("resource");
  const response = await fetch(`http://127.0.0.1:${config.port}/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "client_credentials", resource, ...(client.scope ? { scope: client.scope } : {}) }),
  });
  const token = await response.json();
  if (!response.ok) return json(res, response.status, token);
  json(res, 200, {
    access_token: token.access_token,
    expires_on: String(Math.floor(Date.now() / 1000) + token.expires_in),
    resource,
    token_type: "Bearer",
  });
}

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname.startsWith("/interaction/")) return await interact(req, res);
    if (url.pathname === "/_test/rotate" && req.method === "POST") {
      if (url.searchParams.get("withdraw") === "true") keys.length = 0;
      keys.unshift(newKey());
      provider = createProvider();
      return json(res, 200, { kid: keys[0].kid });
    }
    if (url.pathname === "/_test/stats") return json(res, 200, { tokens: issued });
    if (url.pathname === "/_test/msi/token") return await managedIdentityToken(req, res, url);
    if (config.discovery === "rfc8414") {
      if (url.pathname === "/.well-known/openid-configuration") return json(res, 404, { error: "not_found" });
      if (url.pathname === "/.well-known/oauth-authorization-server") req.url = "/.well-known/openid-configuration";
    }
    provider.callback()(req, res);
  } catch (error) {
    json(res, 500, { error: "server_error", error_description: String(error) });
  }
});
server.listen(config.port, "127.0.0.1", () => console.log(`authorization server ${issuer} on ${config.port}`));
