import { allowLoopbackOutbound } from '../outbound/guarded-fetch.js';
import { LocalSecretBox } from '../crypto/local-secret-box.js';
import { sharedOutbox } from '../mail/local-outbox.js';
import { registerAdapters } from '../services.js';
import { LocalSigner } from '../signing/local-signer.js';

/**
 * The adapters of the local server (`npm start`), the tests and the benchmark: development signing
 * keys and the secret box key on disk, mail and SMS written to an outbox folder. Imported by
 * `local/start.ts`, never by a handler, so no Lambda bundle contains them.
 */
registerAdapters({
  localMailer: (cfg) => sharedOutbox(cfg.localOutboxDir),
  localTexter: (cfg) => sharedOutbox(cfg.localOutboxDir),
  localSigner: (cfg, region) => LocalSigner.open(cfg.localKeysDir, region),
  localSecretBox: (cfg, region) => LocalSecretBox.open(cfg.localKeysDir, region),
});

// Back-channel logout and upstream providers may be http servers on loopback, so both can be tried on one machine.
allowLoopbackOutbound();
