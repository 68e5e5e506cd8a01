/** A request as the retry rule sees it. */
export interface RepeatCandidate {
  method: string;
  /** The URL's path, without the query. */
  path: string;
  headers: Record<string, string>;
}

/**
 * Whether a request answered 500 may be sent again. A 500 can come after the server
 * acted (the write happened, the answer failed), so only a request that cannot act
 * twice may be repeated. The default repeats nothing.
 */
export type RepeatAfter500 = (request: RepeatCandidate) => boolean;

export const neverRepeat: RepeatAfter500 = () => false;

/**
 * Reads, updates and deletes may be repeated (doing them twice ends in the same
 * state); a POST only when `post` says so (e.g. it names what it creates, so a
 * second one is refused as a duplicate instead of creating another).
 */
export function repeatUnlessPost(post: RepeatAfter500 = neverRepeat): RepeatAfter500 {
  return (request) => (request.method.toUpperCase() === 'POST' ? post(request) : true);
}
