import { formatWhen } from "../admin-parts";

export interface AuditRow {
  action: string;
  targetType: string;
  targetId: string;
  details: unknown;
}

/** Names the log itself does not store, looked up from the lists the admin already reads. */
export interface KnownNames {
  merchant: (id: string) => string | undefined;
  deal: (id: string) => string | undefined;
}

type Details = Record<string, unknown>;

const asDetails = (value: unknown): Details =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Details) : {};

const text = (value: unknown) => (typeof value === "string" && value ? value : undefined);

const LABELS: Record<string, string> = {
  priceCents: "price",
  originalPriceCents: "original price",
  startsAt: "start",
  endsAt: "end",
  voucherValidUntil: "vouchers valid until",
  geofenceRadiusM: "geo-fence radius",
  lat: "latitude",
  lng: "longitude",
  remainingAtGate: "remaining at gate",
  activeClaims: "active claims",
  pendingAtGate: "pending at gate",
};

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function shorten(value: string, max = 40) {
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

/** One value of a change, as a person reads it: money in units, dates in local time. */
export function formatValue(field: string, value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "number") {
    if (field.endsWith("Cents")) return (value / 100).toFixed(2);
    if (field.endsWith("M")) return `${value} m`;
    return String(value);
  }
  if (typeof value === "string") {
    return ISO_DATE.test(value) ? formatWhen(new Date(value)) : `“${shorten(value)}”`;
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  const point = asDetails(value);
  if (typeof point.lat === "number" && typeof point.lng === "number") {
    return `${point.lat.toFixed(4)}, ${point.lng.toFixed(4)}`;
  }
  return shorten(JSON.stringify(value), 60);
}

const label = (field: string) => LABELS[field] ?? field;

/** "quantity 100 → 150" for each field whose value differs. */
function differences(from: Details, to: Details): string[] {
  return Object.keys(to)
    .filter((field) => JSON.stringify(from[field]) !== JSON.stringify(to[field]))
    .map(
      (field) =>
        `${label(field)} ${formatValue(field, from[field])} → ${formatValue(field, to[field])}`,
    );
}

/** What the entry is about: a deal's title, a merchant's or device's name, a key's id. */
export function describeSubject(entry: AuditRow, names: KnownNames): string {
  const details = asDetails(entry.details);
  switch (entry.targetType) {
    case "deal":
    case "gate":
      return names.deal(entry.targetId) ?? text(details.title) ?? `deal ${entry.targetId}`;
    case "merchant":
      return names.merchant(entry.targetId) ?? text(details.name) ?? `merchant ${entry.targetId}`;
    case "device":
      return text(details.name) ? `device “${details.name}”` : `device ${entry.targetId}`;
    case "staff":
      return text(details.displayName) ?? text(details.email) ?? `staff ${entry.targetId}`;
    case "signing-key":
      return `key ${entry.targetId.slice(0, 12)}…`;
    case "account":
      return text(details.displayName) ?? text(details.email) ?? `account ${entry.targetId}`;
    default:
      return `${entry.targetType} ${entry.targetId}`;
  }
}

/** What changed, as short phrases. */
export function describeChanges(entry: AuditRow): string[] {
  const details = asDetails(entry.details);
  switch (entry.action) {
    case "deal.update":
      return Object.entries(details).map(([field, change]) => {
        const { from, to } = asDetails(change);
        return `${label(field)} ${formatValue(field, from)} → ${formatValue(field, to)}`;
      });
    case "merchant.update":
      return differences(asDetails(details.from), asDetails(details.to));
    case "gate.rebuild": {
      const changed = differences(asDetails(details.before), asDetails(details.after));
      return changed.length > 0 ? changed : ["the gate already agreed with the database"];
    }
    case "deal.create":
      return [`quantity ${formatValue("quantity", details.quantity)}`];
    case "deal.cancel":
      return [
        `reason ${formatValue("reason", details.reason)}`,
        `${formatValue("claims", details.claimsCancelled)} claims cancelled`,
        `while ${text(details.phase) ?? "unknown"}`,
      ];
    case "merchant.create":
      return [text(details.address) ?? ""].filter(Boolean);
    case "staff.invite":
      return text(details.email) ? [String(details.email)] : [];
    case "account.role": {
      const role = (side: unknown) => text(asDetails(side).role) ?? "unknown";
      return [`${text(details.email) ?? ""} ${role(details.from)} → ${role(details.to)}`.trim()];
    }
    case "account.deactivate":
      return [`${text(details.email) ?? "the account"}: its sessions ended`];
    case "account.reactivate":
      return [`${text(details.email) ?? "the account"} may sign in again`];
    case "device.keep":
      return ["kept after its enroller lost the right to it"];
    case "staff.join":
    case "device.enroll":
    case "device.revoke":
      return [];
    default:
      return Object.entries(details).map(
        ([field, value]) => `${label(field)} ${formatValue(field, value)}`,
      );
  }
}
