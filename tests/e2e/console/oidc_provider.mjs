// A real OpenID Connect provider for the console's sign-in test: node `oidc-provider`, on
// 127.0.0.1 only, with one confidential client that must use PKCE, and people whose role and
// school travel in the ID token under the provider's own claim names (`casebook_role`, `school`).
// Its development login accepts any password; the login name is the person's id.
//   node oidc_provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const people = { 'oidc-worker-1': { casebook_role: 'sw', school: 'JD001' } };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri.replace(/\/callback$/, '')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'casebook'],
  claims: { openid: ['sub'], casebook: ['casebook_role', 'school'] },
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(people[id] || {}) }),
  }),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['casebook-test-only'] },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));
