import Link from "next/link";

interface RequestError {
  message: string;
  data?: { code?: string; domainCode?: string } | null;
}

function headingOf(data: RequestError["data"]) {
  if (data?.domainCode === "NOT_YOURS") return "Not your deal";
  switch (data?.code) {
    case "UNAUTHORIZED":
      return "Sign in first";
    case "FORBIDDEN":
      return "Not for this account";
    case "NOT_FOUND":
      return "Not found";
    default:
      return "Something went wrong";
  }
}

/** Why a console page cannot show what was asked, and where to go instead. */
export function RequestProblem({
  error,
  back,
}: {
  error: RequestError;
  back?: { href: string; label: string };
}) {
  const code = error.data?.code;
  const signIn = code === "UNAUTHORIZED" || (code === "FORBIDDEN" && !error.data?.domainCode);
  return (
    <div className="card console-problem" role="alert">
      <h2>{headingOf(error.data)}</h2>
      <p>{error.message}</p>
      <p>
        {signIn ? (
          <Link href="/sign-in">Sign in as an admin or merchant staff</Link>
        ) : back ? (
          <Link href={back.href}>{back.label}</Link>
        ) : null}
      </p>
    </div>
  );
}
