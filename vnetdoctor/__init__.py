"""vnetdoctor: why can't the VM and its host ping each other?"""

__version__ = "0.1.0"
