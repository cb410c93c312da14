import { storedAdminUsername } from '../admin/credentials.js';
import { newPasswordInput } from '../admin/inputs.js';
import { optString } from '../admin/validate.js';
import { str } from './args.js';
import type { Group } from './command.js';
import { readSecret } from './prompt.js';

export const adminGroup: Group = {
  name: 'admin',
  summary: 'the web panel / admin API login.',
  commands: [
    {
      name: 'password',
      synopsis: 'password [--username U] [--password P]',
      summary: 'Set the admin user name and password; ends every admin session.',
      options: { username: { type: 'string' }, password: { type: 'string' } },
      async run(ctx, { values, out }) {
        // Flags are checked before connecting; Redis is reached before prompting, so nobody
        // types a password only to learn that Redis is down.
        const given = optString({ username: str(values, 'username') }, 'username', { min: 1, max: 100 });
        const flagged = str(values, 'password');
        if (flagged !== undefined) newPasswordInput({ newPassword: flagged });
        const auth = await ctx.auth();
        const password = newPasswordInput({
          newPassword: flagged ?? (await readSecret('New admin password', { confirm: true })),
        });
        const username = given ?? (await storedAdminUsername(await ctx.store())) ?? ctx.config.adminUsername;
        await auth.setCredentials(username, password);
        if (out.json) return out.data({ username, sessionsEnded: true });
        out.line(`Admin password for "${username}" set. Every admin session was ended; log in again.`);
      },
    },
  ],
  notes: [
    'Without --password the password is read from the terminal (hidden, asked twice) or from the',
    'first line of stdin. At least 12 characters. --username defaults to the current admin.',
  ],
};
