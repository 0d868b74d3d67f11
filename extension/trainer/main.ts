// Child-process entry: receives HostToTrainer messages over IPC and streams TrainerToHost events.
export {};
