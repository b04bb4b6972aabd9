// The learner's public surface: the driver of the Python learner process and its protocol types.
export * from "./driver.js";
