/** A price as shoppers read it, e.g. "€4.50". */
export function formatPrice(cents: number, currency: string): string {
  return new Intl.NumberFormat("en", { style: "currency", currency }).format(cents / 100);
}
