// The Python code tool's bubblewrap sandbox, tried for real (one trivial program), which also shows
// whether this kernel lets bwrap create user namespaces. Only runs that use the python tool need it.
import { type CheckResult, ok, warn } from "./check.js";

export async function checkSandbox(): Promise<CheckResult> {
  const { LocalPythonTool } = await import("../../worker/tools/index.js");
  let tool: InstanceType<typeof LocalPythonTool> | undefined;
  try {
    tool = new LocalPythonTool({ slots: 1 });
    await tool.selfTest();
    return ok("bubblewrap", "sandbox works (user namespaces available)");
  } catch (error) {
    const message = (error as Error).message;
    if (/install with/.test(message))
      return warn("bubblewrap", "bubblewrap, prlimit or setpriv missing: the python tool cannot run", "sudo apt-get install bubblewrap util-linux");
    return warn(
      "bubblewrap",
      `the sandbox does not start (${message.split("\n")[0]})`,
      "allow unprivileged user namespaces: sudo sysctl -w kernel.unprivileged_userns_clone=1 (and kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu)",
    );
  } finally {
    await tool?.close();
  }
}
