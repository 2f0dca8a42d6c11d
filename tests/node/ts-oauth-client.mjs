// The official TypeScript MCP SDK client, with its own OAuth support and nothing else: it gets the gateway's 401,
// reads the protected resource metadata, discovers the authorization server, obtains a client-credentials token for
// the resource and calls a tool.
// Usage: node ts-oauth-client.mjs <url> <issuer> <client id> <client secret> <scope> ; prints one JSON line.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";

const [url, expectedIssuer, clientId, clientSecret, scope] = process.argv.slice(2);
const authProvider = new ClientCredentialsProvider({ clientId, clientSecret, scope, expectedIssuer });
const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider });
const client = new Client({ name: "ts-oauth-client", version: "1.0.0" });
await client.connect(transport);
const tools = await client.listTools();
const echoTool = tools.tools.find((t) => t.name.endsWith("echo"));
const result = await client.callTool({ name: echoTool.name, arguments: { message: "with a token" } });
const audience = JSON.parse(Buffer.from(authProvider.tokens().access_token.split(".")[1], "base64url")).aud;
console.log(JSON.stringify({ tools: tools.tools.map((t) => t.name), echo: result.content[0].text, audience }));
await client.close();
