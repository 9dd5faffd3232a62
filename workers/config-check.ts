/**
 * The piscina task that loads and checks a configuration on reload, off the acceptor's event loop
 * (DESIGN §3). It returns plain data (the config, or the alert lines): nothing live is touched.
 */
import { type ConfigCheck, type ConfigCheckRequest, checkConfigFiles } from '../src/cli/check-config.ts';

export default function configCheck(req: ConfigCheckRequest): ConfigCheck {
  return checkConfigFiles(req);
}
