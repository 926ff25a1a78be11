/**
 * `npm run -s passwd -- [--delete] FILE CLIENT_ID`: edits a PASSWORD_FILE for
 * AUTH_MODE = password (protocol 13.3), the password read from standard
 * input. The tool itself is cli/jmqt/passwd.ts, also `jmqt passwd`.
 */
import { passwd } from './jmqt/passwd';

void passwd(process.argv.slice(2), 'npm run -s passwd --', 'passwd');
