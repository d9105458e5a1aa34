/**
 * Intl formatters, made once per locale and options. Building one resolves the locale and loads its data (tens of
 * microseconds); a campaign dates every consent line and prices every product, and a flow converts every order to
 * local time, so a formatter made per call was a visible share of their CPU. An invalid time zone or currency
 * throws here as it would from the constructor, and is not cached.
 */
/** Time zones and currencies are few; the bound only keeps a caller passing arbitrary ones from growing a cache. */
const LIMIT = 1000;

function cachedFormat<Options, Format>(
  cache: Map<string, Format>,
  make: new (locale: string, options: Options) => Format,
): (locale: string, options: Options) => Format {
  return (locale, options) => {
    const key = `${locale}\u0000${JSON.stringify(options)}`;
    let format = cache.get(key);
    if (!format) {
      format = new make(locale, options);
      if (cache.size >= LIMIT) cache.clear();
      cache.set(key, format);
    }
    return format;
  };
}

export const dateTimeFormat = cachedFormat<Intl.DateTimeFormatOptions, Intl.DateTimeFormat>(
  new Map(),
  Intl.DateTimeFormat,
);
export const numberFormat = cachedFormat<Intl.NumberFormatOptions, Intl.NumberFormat>(new Map(), Intl.NumberFormat);
