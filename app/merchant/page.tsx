import { CounterApp } from "./counter-app";

export default function CounterPage() {
  return <CounterApp />;
}
