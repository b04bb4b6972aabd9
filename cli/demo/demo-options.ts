// What `icrl demo` was asked to do: the parsed command-line options, shared by the command and the demo.
export interface DemoOptions {
  port: number;
  host: string;
  dataDir: string;
  file: string;
  maxSteps?: number;
  set?: string[];
  exitWhenDone?: boolean;
  newRun?: boolean;
  threads?: number;
  modelSteps?: number;
  gpu: "auto" | "cuda" | "vulkan" | "metal" | false;
}
