// The signed-in session's credentials, in sessionStorage: they last as long as the tab, are never written to a URL,
// a cookie or localStorage, and leave with "Sign out".

const ADMIN = 'mcpgw.admin-token';
const AGENT = 'mcpgw.agent-token';

export const credentials = {
  /** The admin bearer token; '' when the gateway admits loopback callers without one; null when signed out. */
  token: () => sessionStorage.getItem(ADMIN),
  signedIn: () => sessionStorage.getItem(ADMIN) !== null,
  signIn: (token) => sessionStorage.setItem(ADMIN, token),
  signOut: () => {
    sessionStorage.removeItem(ADMIN);
    sessionStorage.removeItem(AGENT);
  },
  /** A proxy (agent) token for trying tools on servers that require one; separate from the admin token. */
  agentToken: () => sessionStorage.getItem(AGENT) ?? '',
  setAgentToken: (token) => (token ? sessionStorage.setItem(AGENT, token) : sessionStorage.removeItem(AGENT)),
};
