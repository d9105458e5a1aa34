/** The form id every one-click unsubscribe (RFC 8058) is recorded with. */
export const ONE_CLICK_UNSUBSCRIBE_FORM = 'one-click-unsubscribe';

/**
 * How a consent step came about, as a person reads it: `one-click unsubscribe` for a step recorded from an
 * unsubscribe link (method `form`, form `one-click-unsubscribe`), else the method in words
 * (`double opt-in confirmation`).
 */
export function consentMethodLabel(source: { method: string; formId?: string | undefined }): string {
  if (source.formId === ONE_CLICK_UNSUBSCRIBE_FORM) return 'one-click unsubscribe';
  return source.method.replace(/_/g, ' ');
}
