/**
 * The answers a proxy generates itself, with HAProxy 2.6's bodies (clients and monitoring scripts
 * match on them). 400 and 408 are sent by HAProxy's H1 layer as written below, with
 * `Connection: close`; the others go through its message layer, which writes field names in
 * lower case and adds `connection: close` for an HTTP/1.0 client.
 */
const MESSAGES: Readonly<Record<number, readonly [reason: string, text: string]>> = {
  200: ['OK', 'Service ready.'],
  400: ['Bad request', 'Your browser sent an invalid request.'],
  401: ['Unauthorized', 'You need a valid user and password to access this content.'],
  403: ['Forbidden', 'Request forbidden by administrative rules.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'A request was made of a resource using a request method not supported by that resource'],
  407: ['Unauthorized', 'You need a valid user and password to access this content.'],
  408: ['Request Time-out', "Your browser didn't send a complete request in time."],
  410: ['Gone', 'The resource is no longer available and will not be available again.'],
  413: ['Payload Too Large', 'The request entity exceeds the maximum allowed.'],
  421: ['Misdirected Request', 'Request sent to a non-authoritative server.'],
  422: ['Unprocessable Content', 'The server cannot process the contained instructions.'],
  425: ['Too Early', 'Your browser sent early data.'],
  429: ['Too Many Requests', 'You have sent too many requests in a given amount of time.'],
  500: ['Internal Server Error', 'An internal server error occurred.'],
  501: ['Not Implemented', '.The server does not support the functionality required to fulfill the request.'],
  502: ['Bad Gateway', 'The server returned an invalid or incomplete response.'],
  503: ['Service Unavailable', 'No server is available to handle this request.'],
  504: ['Gateway Time-out', "The server didn't respond in time."],
};

/** Reason phrases for `http-request return` and other generated statuses. */
export function reasonPhrase(status: number): string {
  return MESSAGES[status]?.[0] ?? (status < 300 ? 'OK' : status < 400 ? 'Redirect' : status < 500 ? 'Client Error' : 'Server Error');
}

/** Statuses switchyard can generate with HAProxy's built-in body. */
export const GENERATED_STATUSES: readonly number[] = Object.keys(MESSAGES).map(Number);

const cache = new Map<string, Buffer>();

/** HAProxy's built-in answer for `status` (`http10`: the client spoke HTTP/1.0). */
export function errorReply(status: number, http10: boolean): Buffer {
  const key = `${status}:${http10 ? 0 : 1}`;
  let b = cache.get(key);
  if (!b) {
    const [reason, text] = MESSAGES[status] ?? MESSAGES[500]!;
    const body = `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`;
    const head =
      status === 400 || status === 408
        ? `HTTP/1.1 ${status} ${reason}\r\nContent-length: ${body.length}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n`
        : `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${body.length}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n${http10 ? 'connection: close\r\n' : ''}\r\n`;
    b = Buffer.from(head + body, 'latin1');
    cache.set(key, b);
  }
  return b;
}

/** An `errorfile` or `http-request return` answer, given as its full text (head and body). */
export function rawReply(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
