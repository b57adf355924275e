#!/usr/bin/env node
import { processIo } from "../lib/cli/io.ts";
import { main } from "../lib/cli/program.ts";

process.exitCode = await main(process.argv.slice(2), processIo());
