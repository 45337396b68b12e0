"use client";

import { useEffect, useState } from "react";

/** The time now, once a second: countdowns tick and a sale turns live on its own. */
export function useNow() {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
