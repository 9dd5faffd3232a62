/** Fields of one session's log line (HAProxy's TCP log format, `option tcplog`). */
export interface TcpLogFields {
  readonly clientIp: string;
  readonly clientPort: number;
  /** Accept date, ms since the epoch. */
  readonly acceptDate: number;
  readonly frontend: string;
  readonly backend: string;
  readonly server: string;
  /** Tw: time waiting in queues, ms, -1 if never reached. */
  readonly tw: number;
  /** Tc: time to establish the server connection, ms, -1 if never connected. */
  readonly tc: number;
  /** Tt: total session time, ms. */
  readonly tt: number;
  /** Bytes sent to the client. */
  readonly bytesRead: number;
  /** Termination state, 2 characters. */
  readonly termination: string;
  readonly actconn: number;
  readonly feconn: number;
  readonly beconn: number;
  readonly srvconn: number;
  readonly retries: number;
  readonly redispatched: boolean;
  readonly srvQueue: number;
  readonly backendQueue: number;
  /** Where the client connected to (`%fi:%fp`). */
  readonly frontendIp: string;
  readonly frontendPort: number;
  /** The server's address, empty when none was tried (`%si:%sp`). */
  readonly serverIp: string;
  readonly serverPort: number;
  /** Bytes received from the client (`%U`). */
  readonly bytesUploaded: number;
  /** HTTP mode: the request's own fields (absent in TCP mode). */
  readonly http?: HttpLogFields;
}

/** What an HTTP log line adds (`option httplog`): one line per request. */
export interface HttpLogFields {
  /** Date of the first byte of the request, ms since the epoch (`%tr`). */
  readonly requestDate: number;
  /** Idle time before the request (`%Ti`), ms. */
  readonly ti: number;
  /** Time to receive the request head (`%TR`), ms, -1 if it never came complete. */
  readonly tR: number;
  /** Server response time: connected → response head (`%Tr`), -1 if none. */
  readonly tr: number;
  /** Active time of the request, first byte to last byte of the response (`%Ta`). */
  readonly ta: number;
  /** Status sent to the client (`%ST`), -1 if none. */
  readonly status: number;
  /** The request line (`%r`), `<BADREQ>` when the request could not be parsed. */
  readonly requestLine: string;
  readonly method: string;
  readonly uri: string;
  readonly version: string;
}

/** The second letter of a termination state: where the session was when it ended. */
export type TerminationPhase = '-' | 'R' | 'Q' | 'C' | 'H' | 'D' | 'L' | 'T';
