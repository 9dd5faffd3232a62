/** The npm package ships no types: the shape of what its one function returns (prom2json's). */
declare module 'parse-prometheus-text-format' {
  export interface Family {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED';
    readonly metrics: ReadonlyArray<{ readonly value: string; readonly labels?: Readonly<Record<string, string>> }>;
  }
  export default function parsePrometheusTextFormat(text: string): Family[];
}
