/** The minimal ceiling's stock counter for a deal (bench/minimal-gate.lua): the bench sets it. */
export const minimalStockKey = (prefix: string, dealId: string) => `${prefix}minimal:${dealId}`;
