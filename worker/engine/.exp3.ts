import { detectCapabilities } from "./capabilities.js";
console.log(await detectCapabilities());
