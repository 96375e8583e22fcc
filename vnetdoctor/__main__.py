from vnetdoctor.cli import main

raise SystemExit(main())
