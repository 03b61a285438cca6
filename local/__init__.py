"""The local runtime: local stand-ins of AWS and MyUnisoft, and the resources of ``template.yaml`` on them."""
