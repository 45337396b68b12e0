import "./deal-console.css";

/** "37 / 50" with a bar; `large` for the monitor's headline. */
export function SoldBar({
  sold,
  quantity,
  large = false,
}: {
  sold: number;
  quantity: number;
  large?: boolean;
}) {
  const share = quantity > 0 ? Math.min(1, sold / quantity) : 0;
  return (
    <span className={large ? "sold sold-large" : "sold"}>
      <span className="sold-count">
        {sold.toLocaleString()} / {quantity.toLocaleString()}
      </span>
      <span className="sold-bar" aria-hidden="true">
        <span
          className={share >= 1 ? "sold-fill sold-fill-out" : "sold-fill"}
          style={{ width: `${share * 100}%` }}
        />
      </span>
    </span>
  );
}
