import { mintToken } from '#local/jwt';

/**
 * `npm run -s token -- <userId> <email>` prints a token from the local issuer, valid for 12
 * hours, and nothing else: `TOKEN=$(npm run -s token -- u1 a@example.com)`.
 */
const [userId, email] = process.argv.slice(2);
if (!userId || !email) {
  process.stderr.write('usage: npm run -s token -- <userId> <email>\n');
  process.exit(2);
}
process.stdout.write(`${await mintToken(userId, email)}\n`);
