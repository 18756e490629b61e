"""Pure engine: discover, parse, detect, plan, render, write. No textual/rich here."""

