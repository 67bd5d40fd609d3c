/**
 * Text a server or a KDC chose (an e-text, a reason phrase, an `error_description`, a principal
 * name), as vedauth puts it into an error or a warning: at most `maxPeerText` characters, and a
 * marker that says how much was cut. A peer that sends a novel keeps its first lines; one that sends
 * a megabyte does not get a megabyte-long error line. Escaping for a terminal is the caller's job.
 *
 * @since 0.2.0
 */

/**
 * The most characters of a peer's text an error or warning keeps.
 * @since 0.2.0
 */
export const maxPeerText = 512

/** `text`, or its first `max` characters and a marker of the cut (never half a surrogate pair).
 *
 * @since 0.2.0
 */
export const boundText = (text: string, max: number = maxPeerText): string => {
  if (text.length <= max) return text
  const last = text.charCodeAt(max - 1)
  const end = last >= 0xd800 && last <= 0xdbff ? max - 1 : max
  return `${text.slice(0, end)}...[${text.length - end} more characters cut]`
}
