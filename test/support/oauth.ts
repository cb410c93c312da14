import type { FakeOAuthServer } from '../fakes/oauth-server.js';
import { startTestRelay, uniquePrefix, type TestRelay } from './relay.js';

/**
 * For refresh races: two relay instances of one deployment (one Redis prefix), with a relay key
 * both accept.
 */
export async function startTwoInstances(
  env: Record<string, string>,
): Promise<{ a: TestRelay; b: TestRelay; relayKey: string }> {
  const prefix = uniquePrefix();
  const a = await startTestRelay({ prefix, env });
  let b: TestRelay | undefined;
  try {
    b = await startTestRelay({ prefix, env });
    return { a, b, relayKey: (await a.admin.createKey({ name: 'race' })).key };
  } catch (err) {
    // The test's afterAll never sees these: close them here.
    await Promise.all([a.close(), b?.close()]);
    throw err;
  }
}

/** Between OAuth tests: the fakes forget what they saw, the token endpoint is quick again, and no account is left. */
export async function resetOAuthTest(relay: TestRelay, oauth: FakeOAuthServer, fake: { reset(): void }): Promise<void> {
  fake.reset();
  oauth.requests.length = 0;
  oauth.setDelay(0);
  await relay.admin.deleteAllAccounts();
}
