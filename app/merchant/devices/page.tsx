import { DevicesAndConflicts } from "./devices-and-conflicts";

export default function DevicesPage() {
  return <DevicesAndConflicts />;
}
