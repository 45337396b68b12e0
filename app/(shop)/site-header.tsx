"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/lib/trpc/client";

export function SiteHeader() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }),
  );
  return (
    <header className="site-header">
      <Link href="/" className="brand">
        Deal<span>drop</span>
      </Link>
      <nav aria-label="Main">
        <Link href="/">Deals</Link>
        {me.data?.role === "shopper" && (
          <>
            <Link href="/vouchers">My vouchers</Link>
            <Link href="/claims">My claims</Link>
          </>
        )}
        {me.data?.role === "admin" && <Link href="/admin">Dashboard</Link>}
        {/* A plain link: the counter app's documents alone may use the camera, so it opens
            with a page load of its own. */}
        {me.data?.role === "merchant" && <a href="/merchant/deals">My deals</a>}
        {me.data ? (
          <>
            <Link href="/account" className="who" data-testid="signed-in-as">
              {me.data.displayName}
            </Link>
            <button type="button" className="link-button" onClick={() => signOut.mutate()}>
              Sign out
            </button>
          </>
        ) : (
          <Link href="/sign-in">Sign in</Link>
        )}
      </nav>
    </header>
  );
}
