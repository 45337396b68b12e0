"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { useTRPC } from "@/lib/trpc/client";
import { ErrorNote } from "./admin-parts";

const SECTIONS = [
  // The deal pages live under /admin/deals; they are part of Sales.
  { href: "/admin", label: "Sales", also: "/admin/deals" },
  { href: "/admin/merchants", label: "Merchants" },
  { href: "/admin/devices", label: "Devices" },
  { href: "/admin/accounts", label: "Accounts" },
  { href: "/admin/redemptions", label: "Redemptions" },
  { href: "/admin/keys", label: "Signing keys" },
  { href: "/admin/audit", label: "Audit log" },
];

const isWithin = (pathname: string, base: string) =>
  pathname === base || pathname.startsWith(`${base}/`);

/** The dashboard's frame: header, navigation, and the check that the visitor is an admin. */
export function AdminShell({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const pathname = usePathname();
  const me = useQuery(trpc.auth.me.queryOptions());
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }),
  );
  const isAdmin = me.data?.role === "admin";

  return (
    <>
      <header className="site-header admin-header">
        <Link href="/admin" className="brand">
          Deal<span>drop</span> <small>Admin</small>
        </Link>
        {isAdmin && (
          <nav aria-label="Admin" className="admin-nav">
            {SECTIONS.map((section) => {
              const current =
                section.href === "/admin"
                  ? pathname === "/admin" || isWithin(pathname, section.also ?? "")
                  : isWithin(pathname, section.href);
              return (
                <Link
                  key={section.href}
                  href={section.href}
                  aria-current={current ? "page" : undefined}
                >
                  {section.label}
                </Link>
              );
            })}
          </nav>
        )}
        {me.data && (
          <div className="admin-who">
            <Link href="/account" className="admin-account" data-testid="signed-in-as">
              {me.data.displayName}
            </Link>
            <button
              type="button"
              className="link-button"
              disabled={signOut.isPending}
              onClick={() => signOut.mutate()}
            >
              Sign out
            </button>
          </div>
        )}
      </header>
      <main className="page admin-page">
        {me.isPending ? (
          <p className="muted" role="status">
            Checking your session…
          </p>
        ) : me.isError ? (
          <ErrorNote error={me.error} />
        ) : isAdmin ? (
          children
        ) : (
          <AdminsOnly signedInAs={me.data} />
        )}
      </main>
    </>
  );
}

function AdminsOnly({ signedInAs }: { signedInAs: { displayName: string; role: string } | null }) {
  return (
    <section className="card narrow admin-gate" aria-labelledby="admins-only">
      <h1 id="admins-only">Admins only — sign in</h1>
      <p>
        {signedInAs
          ? `You are signed in as ${signedInAs.displayName} (${signedInAs.role}). The dashboard is for Dealdrop admins.`
          : "The dashboard is for Dealdrop admins. Sign in with your admin account to continue."}
      </p>
      <Link href="/sign-in" className="button">
        {signedInAs ? "Sign in as an admin" : "Sign in"}
      </Link>
      <p>
        <Link href="/">Back to the deals</Link>
      </p>
    </section>
  );
}
