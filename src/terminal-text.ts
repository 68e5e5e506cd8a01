import { stripVTControlCharacters } from 'node:util';

// C0 controls but \t and \n, DEL and the C1 controls (a lone \x9b starts a sequence on some terminals).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from servers, run output and event payloads printed on a terminal: ANSI/VT
 * sequences (colours, cursor moves, window titles, OSC 8 links) and other control
 * characters removed, so a server cannot rewrite what the user sees or drive the
 * terminal. Newlines and tabs stay.
 */
export function terminalText(text: string): string {
  return stripVTControlCharacters(text).replace(CONTROL, '');
}
