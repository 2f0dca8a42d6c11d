// Drives the gateway with the official TypeScript MCP SDK client: a client nobody on this project wrote.
// Usage: node ts-client.mjs <url> <streamable|sse> [tool] [token] ; calls `tool` (default: the first whose name ends
// in "echo") with a message and prints one JSON line with what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

const [url, mode, toolName, token] = process.argv.slice(2);
const options = token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : undefined;
const transport = mode === "sse" ? new SSEClientTransport(new URL(url), options) : new StreamableHTTPClientTransport(new URL(url), options);
const client = new Client({ name: "ts-sdk-test-client", version: "1.0.0" });
await client.connect(transport);
const tools = await client.listTools();
const echoTool = toolName ? { name: toolName } : tools.tools.find((t) => t.name.endsWith("echo"));
const result = await client.callTool({ name: echoTool.name, arguments: { message: "from typescript" } });
console.log(JSON.stringify({ server: client.getServerVersion()?.name, tools: tools.tools.map((t) => t.name), echo: result.content[0].text }));
await client.close();
