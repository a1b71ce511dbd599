/** `NNNN` of `NNNN-short-name` (the part before the first dash). */
export const protocolNumber = (protocolName: string): string => protocolName.split('-')[0] ?? protocolName

/** `[protocol-NNNN/SS] subject`: the commit message convention of protocol work. */
export const commitMessage = (protocolName: string, stepIndex: number | string, subject: string): string =>
  `[protocol-${protocolNumber(protocolName)}/${String(stepIndex).padStart(2, '0')}] ${subject}`
